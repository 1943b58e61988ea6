/* A C-ABI reward plugin that misbehaves on request, for tests/rewards/plugin_test.cpp (compiled by
 * the test with the system C compiler, which also proves the SDK header is plain C). The
 * completion picks the behaviour per sample: NAN, INF, BADJSON (info not JSON), UNSCORED,
 * SCORED2 (scored flag out of range); a completion ERROR fails the whole batch, CRASH dereferences
 * a null pointer (SIGSEGV) and HANG never returns. Otherwise
 * value = completion length, info = {"frees": <number of free_results calls so far>}.
 * Options {"fail_init": true} make init fail. FAULTY_ABI overrides the reported ABI version. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rewards/sdk/r1kit_reward.h"

#ifndef FAULTY_ABI
#define FAULTY_ABI R1KIT_REWARD_ABI_VERSION
#endif

typedef struct state {
  int frees;
  char* infos;   /* n slots of 64 bytes, owned until free_results */
} state;

static int is(const r1kit_sample* s, const char* word) {
  return s->completion_len == strlen(word) && memcmp(s->completion, word, s->completion_len) == 0;
}

uint32_t r1kit_reward_abi_version(void) { return FAULTY_ABI; }

int r1kit_reward_init(const char* options_json, void** user, char* error, size_t error_size) {
  if (strstr(options_json, "\"fail_init\":true") != NULL) {
    snprintf(error, error_size, "asked to fail in init");
    return 1;
  }
  *user = calloc(1, sizeof(state));
  return 0;
}

int r1kit_reward_score(void* user, const r1kit_sample* samples, size_t n, r1kit_result* out) {
  state* st = (state*)user;
  for (size_t i = 0; i < n; ++i) {
    if (is(&samples[i], "ERROR")) return 7;
    if (is(&samples[i], "CRASH")) {
      volatile int* volatile nowhere = NULL;
      *nowhere = 1;
    }
    if (is(&samples[i], "HANG"))
      for (;;) sleep(1);
  }
  st->infos = (char*)calloc(n, 64);
  for (size_t i = 0; i < n; ++i) {
    char* info = st->infos + 64 * i;
    snprintf(info, 64, "{\"frees\": %d}", st->frees);
    out[i].value = (double)samples[i].completion_len;
    out[i].scored = 1;
    out[i].info = info;
    if (is(&samples[i], "NAN")) out[i].value = NAN;
    if (is(&samples[i], "INF")) out[i].value = INFINITY;
    if (is(&samples[i], "BADJSON")) snprintf(info, 64, "{not json");
    if (is(&samples[i], "UNSCORED")) {
      out[i].scored = 0;
      snprintf(info, 64, "{\"reason\": \"no judge available\"}");
    }
    if (is(&samples[i], "SCORED2")) out[i].scored = 2;
  }
  return 0;
}

const char* r1kit_reward_last_error(void* user) { return "asked to fail the batch"; }

void r1kit_reward_free_results(void* user, r1kit_result* results, size_t n) {
  state* st = (state*)user;
  free(st->infos);
  st->infos = NULL;
  st->frees++;
}

void r1kit_reward_destroy(void* user) { free(user); }
