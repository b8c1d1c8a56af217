# Chapter 2 of 000_14a3e5f06a270641.txt: an RNN with several inputs and outputs.
# The listing is verbatim; only the import lines changed from torch to deeprnn.
import deeprnn as torch
from deeprnn import autograd

# 学习速率
eta = 0.01

# 只学习一个样本
x = torch.tensor([[4., 5., 6.]])
y = torch.tensor([100.,101., 102.,103. ])

w_ih = torch.randn([3, 2], requires_grad=True)
b_ih = torch.randn([1, 2], requires_grad=True)
w_hh = torch.randn([2, 2], requires_grad=True)
w_ho = torch.randn([2, 4], requires_grad=True)
b_ho = torch.randn([1, 4], requires_grad=True)

# 初始化h_{t-1}
h_t_1 = torch.randn([1, 2])

i = 1
while i < 300:
    h = torch.tanh(torch.mm(x, w_ih) + torch.mm(h_t_1, w_hh) + b_ih)
    o = torch.mm(h, w_ho)+b_ho
    err = torch.pow(o-y, 2).sum()
    print('err = ', err)
    # 更新隐层神经元状态值
    h_t_1 = h

    # 计算梯度
    w_ih_g, b_ih_g, w_hh_g, w_ho_g, b_ho_g = autograd.grad(err, [w_ih, b_ih,
                                                                    w_hh, w_ho, b_ho])

    #更新权重矩阵和偏差
    w_ih = w_ih - eta*w_ih_g
    b_ih = b_ih - eta*b_ih_g
    w_hh = w_hh - eta*w_hh_g
    w_ho = w_ho - eta*w_ho_g
    b_ho = b_ho - eta*b_ho_g

    i += 1
