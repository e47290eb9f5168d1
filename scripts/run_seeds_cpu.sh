#!/bin/bash
# Several seeds of one config at once on this host's CPU cores, each run pinned to one core;
# the same command again resumes the unfinished ones.
# Usage: bash scripts/run_seeds_cpu.sh [--log_dir DIR] CONFIG_PATH OUTPUT_ROOT SEED [SEED ...]
#            [-- TRAIN_OPTION ...]
DEVICE_TARGET=CPU
source "$(dirname "$0")/common.sh"
train_seeds "$@"
