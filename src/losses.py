"""DDPG's (and TD3's) target and loss maths as pure functions of tensors (no state, no parameters).

They work on MindSpore Tensors inside and outside a graph; tests check them against
hand-computed values.
"""
from mindspore import ops


def td_target(reward, terminated, next_q, discount: float, reward_scale: float,
              clip_low: float, clip_high: float):
    """y = reward_scale * r + discount * (1 - terminated) * Q'(s', mu'(s')), clipped.

    `terminated` is 1.0 only for a real termination: a time-limit truncation bootstraps.
    """
    y = reward_scale * reward + discount * (1.0 - terminated) * next_q
    return ops.clamp(y, clip_low, clip_high)


def smoothed_target_action(action, noise, sigma: float, noise_clip: float, low, high,
                           half_range):
    """TD3's target policy smoothing: action + clip(sigma * noise, -noise_clip, noise_clip) *
    half_range, clipped to [low, high].

    `noise` is standard normal; sigma and noise_clip are fractions of the action half-range,
    as the exploration noise's sigma is.
    """
    eps = ops.clamp(sigma * noise, -noise_clip, noise_clip)
    return ops.clamp(action + half_range * eps, low, high)


def clip_bounds(clip_return: float, clip_pos_returns: bool):
    """The [low, high] interval of TD targets: [-clip_return, 0 or clip_return]."""
    return -clip_return, (0.0 if clip_pos_returns else clip_return)


def soft_update(target, online, tau: float):
    """The new target value tau * online + (1 - tau) * target."""
    return tau * online + (1.0 - tau) * target


def l2_penalty(weights, decay: float):
    """0.5 * decay * sum of squared entries over `weights` (a tuple of tensors)."""
    total = 0.0
    for w in weights:
        total = total + ops.reduce_sum(w * w)
    return 0.5 * decay * total
