#!/bin/bash
# Data-parallel DDPG training with msrun on WORKER_NUM GPU workers of this host.
# Usage: bash scripts/run_distribute_train_gpu.sh [--log_dir DIR] WORKER_NUM [CONFIG_PATH] [OUTPUT_DIR]
DEVICE_TARGET=GPU
source "$(dirname "$0")/common.sh"
distribute_train "$@"
