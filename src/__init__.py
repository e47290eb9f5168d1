"""DDPG (Lillicrap et al. 2015) for MindSpore 2.x."""
