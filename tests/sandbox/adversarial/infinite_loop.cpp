// expect: TIME_LIMIT cpu=0.5 wall=2
int main() {
  volatile unsigned long x = 0;
  for (;;) ++x;
}
