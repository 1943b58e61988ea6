// The --device option the trainer subcommands share (sft, grpo, pretrain): "cpu", "cuda" or
// "cuda:N". Throws r1::Error naming --device and the accepted forms for anything else.
#pragma once

#include <c10/core/Device.h>

#include <string>

namespace r1::cli {

at::Device parse_device(const std::string& text);

}  // namespace r1::cli
