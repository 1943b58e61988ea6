//@ attack: none (positive control): a correct stdin/stdout C++ program
//@ test {"stdin": "3\n1 2 3\n", "expected_stdout": "6\n", "compare": "exact"}
//@ test {"stdin": "2\n10 20\n", "expected_stdout": "30"}
//@ expect {"verdict": "OK", "passed": 2}
#include <iostream>

int main() {
  int n;
  long long sum = 0, x;
  std::cin >> n;
  for (int i = 0; i < n && std::cin >> x; ++i) sum += x;
  std::cout << sum << "\n";
}
