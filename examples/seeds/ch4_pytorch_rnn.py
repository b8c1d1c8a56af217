# Chapter 4 of 000_14a3e5f06a270641.txt: how PyTorch's RNN is used.
# The listing is verbatim; only the import lines changed from torch to deeprnn.
import deeprnn as torch
import deeprnn.nn as nn

# 输入样本特征数
input_size = 3
# 隐层神经元状态量特征数
hidden_size = 2
# 隐层数量
num_layers = 1

# rnn实例化
rnn = nn.RNN(input_size, hidden_size, num_layers)

# 序列长度
seq_size = 4
# batch的长度
batch_size = 5

# 随机生成输入样本
input = torch.randn(seq_size, batch_size, input_size)

# 随机初始化h_{t-1}
num_directions = 2 if rnn.bidirectional else 1
h_t_1 = torch.randn(rnn.num_layers * num_directions, batch_size, hidden_size)

# 计算rnn输出
output, hn = rnn(input, h_t_1)
