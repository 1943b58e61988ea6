// The trainer stage kinds (pretrain, sft, grpo), registered by default_stages(). Their settings
// and how a stage finds its model and data: pipeline/trainer_stages.cpp's header comment.
#pragma once

#include "pipeline/stage.h"

namespace r1::pipeline {

void add_trainer_stages(StageRegistry& registry);

}  // namespace r1::pipeline
