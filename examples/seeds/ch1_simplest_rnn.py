# Chapter 1 of 000_14a3e5f06a270641.txt (从零实现深度循环神经网络): the simplest RNN.
# The listing is verbatim; only the import lines changed from torch to deeprnn.
import deeprnn as torch
from deeprnn import autograd

# 最简单的循环神经网络rnn

# 学习速率
eta = 0.01

# 只学习一个样本
x = torch.tensor([0.04])
y = torch.tensor([1.])

# 注意，权重初始化最好在(0,1)之间。
w_ih = torch.tensor([0.1], requires_grad=True)
b_ih = torch.tensor([0.2], requires_grad=True)
w_hh = torch.tensor([0.3], requires_grad=True)
w_ho = torch.tensor([0.4], requires_grad=True)
b_ho = torch.tensor([0.5], requires_grad=True)

# 初始化h_{t-1}
h_t_1 = torch.randn(1)

i = 1
while i < 300:
    h = torch.tanh(x*w_ih + b_ih + h_t_1*w_hh)
    o = torch.tanh(h*w_ho + b_ho)
    err = torch.pow(o-y, 2)
    # 更新隐层神经元状态值
    h_t_1 = h
    print('err = ', err)
    # 计算权重和偏差的梯度
    w_ih_g, b_ih_g, w_hh_g, w_ho_g, b_ho_g = \
        autograd.grad(err, [w_ih, b_ih, w_hh, w_ho, b_ho])

    # 更新权重和偏差
    w_ih = w_ih - eta*w_ih_g
    b_ih = b_ih - eta*b_ih_g
    w_hh = w_hh - eta*w_hh_g
    w_ho = w_ho - eta*w_ho_g
    b_ho = b_ho - eta*b_ho_g

    i += 1
