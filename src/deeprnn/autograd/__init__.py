"""deeprnn.autograd"""
