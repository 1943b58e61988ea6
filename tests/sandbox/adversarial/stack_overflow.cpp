// expect: RUNTIME_ERROR signal=11
int depth(int n) {
  volatile char pad[1024];
  pad[0] = char(n);
  return depth(n + 1) + pad[0];
}
int main() { return depth(0); }
