"""_reader"""
