// expect: OK
#include <unistd.h>
int main() {
  if (fork() == 0) {
    setsid();
    if (fork() == 0) {
      sleep(60);
      _exit(0);
    }
    _exit(0);
  }
  usleep(100000);
  return 0;
}
