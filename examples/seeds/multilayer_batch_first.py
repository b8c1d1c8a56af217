# 001_865143ca040637e3.txt (多层 RNN原理以及实现), second listing: the same network with batch_first=True.
# The listing is verbatim; only the import lines changed from torch to deeprnn.
import deeprnn as torch

# 输入数据形状: (batch_size, seq_len, input_size)
input_data = torch.tensor([
    # 句子 1
    [[0.1, 0.2, 0.3],  # 第一个单词
     [0.7, 0.8, 0.9],  # 第二个单词
     [1.3, 1.4, 1.5],  # 第三个单词
     [1.9, 2.0, 2.1]],  # 第四个单词
    # 句子 2
    [[0.4, 0.5, 0.6],  # 第一个单词
     [1.0, 1.1, 1.2],  # 第二个单词
     [1.6, 1.7, 1.8],  # 第三个单词
     [2.2, 2.3, 2.4]]  # 第四个单词
])
print("Input shape:", input_data.shape)  # 输出: torch.Size([2, 4, 3])
# 初始隐藏状态形状: (num_layers * num_directions, batch_size, hidden_size)
h0 = torch.zeros(2, 2, 5)  # 2层RNN，批次大小为2，隐藏状态维度为5
print("h0 shape:", h0.shape)  # 输出: torch.Size([2, 2, 5])
import deeprnn.nn as nn

# 定义 RNN
rnn = nn.RNN(
    input_size=3,  # 输入特征维度
    hidden_size=5,  # 隐藏状态维度
    num_layers=2,  # RNN 层数
    batch_first=True  # 输入形状为 (batch_size, seq_len, input_size)
)
# 前向传播
output, hn = rnn(input_data, h0)
print("Output shape:", output.shape)  # 输出: torch.Size([2, 4, 5])
print("hn shape:", hn.shape)  # 输出: torch.Size([2, 2, 5])
print("Output (所有时间步的隐藏状态):")
print(output)
print("hn (最后一个时间步的隐藏状态):")
print(hn)
