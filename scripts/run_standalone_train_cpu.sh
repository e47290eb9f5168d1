#!/bin/bash
# Train DDPG on one CPU device.
# Usage: bash scripts/run_standalone_train_cpu.sh [--log_dir DIR] [CONFIG_PATH] [OUTPUT_DIR] [DEVICE_ID]
DEVICE_TARGET=CPU
source "$(dirname "$0")/common.sh"
standalone_train "$@"
