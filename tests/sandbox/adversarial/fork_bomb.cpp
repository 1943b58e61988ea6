// expect: TIME_LIMIT cpu=0.5 wall=1.5 procs=16
#include <unistd.h>
int main() {
  for (;;) fork();
}
