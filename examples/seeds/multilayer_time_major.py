# 001_865143ca040637e3.txt (多层 RNN原理以及实现), first listing: a 2-layer RNN, time-major input.
# The listing is verbatim; only the import lines changed from torch to deeprnn.
import deeprnn as torch

# 输入数据形状: (seq_len, batch_size, input_size)
input_data = torch.tensor([
    # 时间步 1
    [[0.1, 0.2, 0.3],  # 句子 1 的第一个单词
     [0.4, 0.5, 0.6]],  # 句子 2 的第一个单词
    # 时间步 2
    [[0.7, 0.8, 0.9],  # 句子 1 的第二个单词
     [1.0, 1.1, 1.2]],  # 句子 2 的第二个单词
    # 时间步 3
    [[1.3, 1.4, 1.5],  # 句子 1 的第三个单词
     [1.6, 1.7, 1.8]],  # 句子 2 的第三个单词
    # 时间步 4
    [[1.9, 2.0, 2.1],  # 句子 1 的第四个单词
     [2.2, 2.3, 2.4]]  # 句子 2 的第四个单词
])
print("Input shape:", input_data.shape)  # 输出: torch.Size([4, 2, 3])
# 初始隐藏状态形状: (num_layers * num_directions, batch_size, hidden_size)
h0 = torch.zeros(2, 2, 5)  # 2层RNN，批次大小为2，隐藏状态维度为5
print("h0 shape:", h0.shape)  # 输出: torch.Size([2, 2, 5])
import deeprnn.nn as nn

# 定义 RNN
rnn = nn.RNN(
    input_size=3,  # 输入特征维度
    hidden_size=5,  # 隐藏状态维度
    num_layers=2,  # RNN 层数
    batch_first=False  # 输入形状为 (seq_len, batch_size, input_size)
)
# 前向传播
output, hn = rnn(input_data, h0)
print("Output shape:", output.shape)  # 输出: torch.Size([4, 2, 5])
print("hn shape:", hn.shape)  # 输出: torch.Size([2, 2, 5])
print("Output (所有时间步的隐藏状态):")
print(output)
print("hn (最后一个时间步的隐藏状态):")
print(hn)
