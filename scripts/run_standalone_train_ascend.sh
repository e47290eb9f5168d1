#!/bin/bash
# Train DDPG on one Ascend device.
# Usage: bash scripts/run_standalone_train_ascend.sh [--log_dir DIR] [CONFIG_PATH] [OUTPUT_DIR] [DEVICE_ID]
DEVICE_TARGET=Ascend
source "$(dirname "$0")/common.sh"
standalone_train "$@"
