/* r1kit reward plugin SDK: the C ABI a shared-library reward exports (docs/rewards.md, "Writing a
 * reward plugin"). Pure C: no C++ types, no exceptions and no ownership crosses the boundary.
 * A plugin exports the five functions below with C linkage. The host:
 *   1. checks r1kit_reward_abi_version() == R1KIT_REWARD_ABI_VERSION (else refuses to load it);
 *   2. calls r1kit_reward_init(options_json, &user, error, error_size) once; non-zero = failure,
 *      with a NUL-terminated reason written into `error`;
 *   3. calls r1kit_reward_score(user, samples, n, out) once per batch, never concurrently for one
 *      `user`; the plugin fills out[0..n). A non-zero return fails the whole batch (every sample
 *      unscored, reason "plugin_error"); r1kit_reward_last_error(user) may say why;
 *   4. copies every out[i].info, then calls r1kit_reward_free_results(user, out, n) (after a
 *      failed call too: every out[i].info starts NULL, so free what you set);
 *   5. calls r1kit_reward_destroy(user) when done.
 * The host is r1kit-reward-host by default, a process of its own that r1kit restarts after a crash
 * or a hang; with `isolate: false` it is r1kit itself, where a crash (a signal, abort) ends the run.
 */
#ifndef R1KIT_REWARD_H_
#define R1KIT_REWARD_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define R1KIT_REWARD_ABI_VERSION 1u

/* One sample. Strings are UTF-8, not NUL-terminated (use the lengths), valid during the call. */
typedef struct r1kit_sample {
  const char* prompt;
  size_t prompt_len;
  const char* completion;
  size_t completion_len;
  const char* answer; /* the reference answer (math); NULL when the sample has none */
  size_t answer_len;
  const char* language; /* "en", "zh", ...; length 0 when the sample has none */
  size_t language_len;
  const char* json; /* the whole sample as one JSON object (tests and any other input keys) */
  size_t json_len;
} r1kit_sample;

/* One result, written by the plugin. The host reads it after r1kit_reward_score returns. */
typedef struct r1kit_result {
  double value;     /* the reward; must be finite when scored (else the sample is unscored) */
  int scored;       /* 1: scored; 0: unscored, the reason in info's "reason" key */
  const char* info; /* NUL-terminated JSON object text (why), or NULL; owned by the plugin until
                       r1kit_reward_free_results */
} r1kit_result;

typedef uint32_t (*r1kit_reward_abi_version_fn)(void);
typedef int (*r1kit_reward_init_fn)(const char* options_json, void** user, char* error, size_t error_size);
typedef int (*r1kit_reward_score_fn)(void* user, const r1kit_sample* samples, size_t n, r1kit_result* out);
typedef const char* (*r1kit_reward_last_error_fn)(void* user);
typedef void (*r1kit_reward_free_results_fn)(void* user, r1kit_result* results, size_t n);
typedef void (*r1kit_reward_destroy_fn)(void* user);

/* What a plugin defines (the host looks these names up with dlsym). */
uint32_t r1kit_reward_abi_version(void);
int r1kit_reward_init(const char* options_json, void** user, char* error, size_t error_size);
int r1kit_reward_score(void* user, const r1kit_sample* samples, size_t n, r1kit_result* out);
const char* r1kit_reward_last_error(void* user);
void r1kit_reward_free_results(void* user, r1kit_result* results, size_t n);
void r1kit_reward_destroy(void* user);

#ifdef __cplusplus
}
#endif

#endif /* R1KIT_REWARD_H_ */
