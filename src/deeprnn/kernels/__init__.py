"""deeprnn.kernels"""
