"""_async"""
