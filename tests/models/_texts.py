"""Small texts written for these tests (original prose, not taken from anywhere)."""

ENGLISH = (
    "the baker rises before the town and lights the oven. the dough he left last night has grown "
    "soft and round. soon the street smells of warm bread, and the children on their way to school "
    "stop at the window to see what is new today. the baker waves and sometimes gives them a small "
    "roll. the old man from the river comes for two loaves and sits on the bench to watch the ducks. "
) * 6

# Chinese prose written for the tests: a morning at a small-town bakery.
CHINESE = (
    "春天的早晨，小镇的街道还很安静。面包店的老板最早起床，他把炉子点着，把昨天晚上准备好的面团放进去。"
    "不久，街上就飘满了麦子的香味。上学的孩子们背着书包走过，总要在窗前停一停，看看今天有什么新的点心。"
    "老板笑着向他们招手，有时候还送给他们一小块刚出炉的面包。孩子们说，这是一天里最快乐的时刻。"
    "河边的老人也慢慢地走过来，买两个馒头，坐在长椅上看水里的鸭子。太阳升高了，小镇醒了，人们开始了新的一天。"
    "到了傍晚，面包店的灯还亮着，老板一边收拾桌子，一边想着明天要做什么。"
    "他说，生活就像做面包，需要耐心，也需要一点温暖。\n"
) * 4
