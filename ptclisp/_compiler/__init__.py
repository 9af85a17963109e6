"""_compiler"""
