"""deeprnn.models"""
