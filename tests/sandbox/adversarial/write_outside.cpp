// expect: OK
#include <cstdio>
int main() {
  const char* paths[] = {"/usr/r1kit_escape_cpp", "/etc/r1kit_escape_cpp", "/r1kit_escape_cpp", "/root/r1kit_escape_cpp"};
  for (const char* p : paths) {
    if (FILE* f = std::fopen(p, "w")) {
      std::printf("ESCAPED: wrote %s\n", p);
      std::fclose(f);
    }
  }
  std::printf("done\n");
}
