"""deeprnn.optim"""
