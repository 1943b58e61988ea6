// expect: COMPILE_ERROR
int main() { return undefined_name; }
