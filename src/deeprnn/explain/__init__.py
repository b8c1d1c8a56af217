"""deeprnn.explain"""
