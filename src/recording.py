"""Animated GIFs of evaluation episodes, rendered offscreen (render_mode="rgb_array").

GIF needs nothing beyond Pillow (a dependency of matplotlib). Long episodes are subsampled to
at most MAX_FRAMES frames, so a 1,000-step MuJoCo episode stays a few megabytes.
"""
import math
import os
import re
from typing import List, Optional

import numpy as np

MAX_FRAMES = 250


class GifRecorder:
    """Collects the frames of one episode at a time and writes each as <prefix>_episode_<i>.gif."""

    def __init__(self, directory: str, prefix: str, fps: float, episode_steps: Optional[int]):
        self.directory = directory
        self.prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", prefix)
        self.stride = max(1, math.ceil((episode_steps or MAX_FRAMES) / MAX_FRAMES))
        self.frame_ms = 1000.0 * self.stride / (fps or 30)
        self.frames: List[np.ndarray] = []
        self.steps = 0
        self.episode = 0
        self.written: List[str] = []

    def begin(self, episode: int) -> None:
        self.frames, self.steps, self.episode = [], 0, episode

    def add(self, frame: Optional[np.ndarray]) -> None:
        if frame is not None and self.steps % self.stride == 0:
            self.frames.append(np.asarray(frame, np.uint8))
        self.steps += 1

    def end(self) -> str:
        from PIL import Image
        path = os.path.join(self.directory, f"{self.prefix}_episode_{self.episode}.gif")
        images = [Image.fromarray(f) for f in self.frames]
        images[0].save(path, save_all=True, append_images=images[1:], loop=0,
                       duration=self.frame_ms)
        self.written.append(path)
        return path
