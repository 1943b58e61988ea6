// The stage runner behind `r1kit run`: locks the run directory, checks the recipe against the one
// saved there, then runs the stages in order. Finished stages (DONE marker) are skipped; an
// interrupted stage resumes from its last checkpoint (the stage kind does that from ctx.dir).
#pragma once

#include <string>
#include <vector>

#include "pipeline/recipe.h"
#include "pipeline/stage.h"

namespace r1::pipeline {

struct RunOptions {
  // Accept a recipe that differs from the one saved in the run directory. Stages from the first one
  // whose settings changed onward lose their DONE marker and run again (resuming from their
  // checkpoints, e.g. to train for more steps).
  bool force = false;
  // The job's process group (`r1kit launch`, torchrun): every rank runs every stage; rank 0 alone
  // locks the directory and writes the recipe, metrics and DONE markers, and the ranks meet at a
  // barrier after the recipe check and after each stage. Null: a single process.
  model::Dist* dist = nullptr;
};

enum class StageOutcome { kSkippedDone, kRan, kPlanned, kNotReached };

struct StageReport {
  std::string name;
  std::string kind;
  StageOutcome outcome = StageOutcome::kNotReached;
  std::string detail;  // where a planned kind is planned, or the DONE summary
};

// Runs `recipe` in recipe.run.dir. Throws r1::Error when the directory is locked by another process
// or holds a different recipe (the message lists the differences) and `force` is off.
// Returns one report per stage, in order; stages after a planned one are kNotReached.
std::vector<StageReport> run_recipe(const ResolvedRecipe& recipe, const StageRegistry& registry,
                                    const RunOptions& options);

// A table of the reports, one line per stage, for the end of `r1kit run`.
std::string format_reports(const std::vector<StageReport>& reports);

}  // namespace r1::pipeline
