namespace r1::pipeline {}
