#!/bin/bash
# Train DDPG on one Ascend device.
# Usage: bash scripts/run_standalone_train_ascend.sh [CONFIG_PATH] [OUTPUT_DIR] [DEVICE_ID]
DEVICE_TARGET=Ascend
source "$(dirname "$0")/common.sh"
standalone_train "$@"
