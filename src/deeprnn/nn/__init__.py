"""deeprnn.nn"""
