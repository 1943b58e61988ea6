// model/pch/torch_pch.h: headers parsed once for every LibTorch translation unit (STYLE.md rule 29).
// Only what most LibTorch TUs need; never <torch/torch.h>.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include <string>
#include <vector>
