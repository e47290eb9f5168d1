#!/bin/bash
# Train DDPG on one GPU device.
# Usage: bash scripts/run_standalone_train_gpu.sh [--log_dir DIR] [CONFIG_PATH] [OUTPUT_DIR] [DEVICE_ID]
DEVICE_TARGET=GPU
source "$(dirname "$0")/common.sh"
standalone_train "$@"
