// ChatTemplate against jinja2 in transformers' environment: one-line templates covering every
// construct and whitespace-control combination, each rendered by both (jinja2 in one Python
// process for the whole table) and compared byte for byte, generation spans included. Cases that
// fail in jinja2 must fail in r1kit at the same template line.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/tokenizer/chat_template.h"
#include "tests/core/tokenizer/chat_template_reference.h"

namespace r1::tokenizer {
namespace {

using nlohmann::ordered_json;

// Variables for cases that give none of their own.
constexpr const char* kDefaultContext = R"~({"x": 1, "xs": [1, 2, 3], "s": "  héllo wörld  ",
  "d": {"b": 2, "a": {"b": "nested"}, "items": "ITEMS"}, "m": {"role": "user", "content": "Hi"},
  "users": [{"name": "ann", "age": 30, "active": true}, {"name": "bob", "age": 25, "active": false},
            {"name": "cy", "age": 30, "active": true}],
  "tree": [{"n": 1, "c": [{"n": 2, "c": []}]}, {"n": 3}], "ms": ["a", "b"], "f": 2.5, "e": "",
  "n": null, "t": true, "big": 9007199254740993, "u": "日本語 ✓ é"})~";

struct Case {
  const char* tmpl;
  const char* context = nullptr;  // JSON object; kDefaultContext when null
};

const Case kCases[] = {
    // ---- whitespace control, trim_blocks, lstrip_blocks ----
    {"a {{ x }} b"},
    {"a {{- x -}} b"},
    {"a {{+ x }} b"},
    {"a\n  {{- x }}\n  b"},
    {"  {% if true %}\n  yes\n  {% endif %}\nend"},
    {"{% if true %}  x  {% endif %}"},
    {"line1\n    {% if true -%}\n   x\n{%- endif %}\nend"},
    {"a\n  {%+ if true %}b{% endif %}"},
    {"{%+ if true +%}\nx{% endif +%}\ny"},
    {"a  {#- comment -#}  b"},
    {"a\n  {# c #}\nb"},
    {"a {# c #}\nb"},
    {"   {#- c #}x"},
    {"{# multi\nline #}\n{{ x }}"},
    {"{% raw %}{{ x }}{% endraw %}"},
    {"  {% raw -%}  {{ x }}  {%- endraw %}  "},
    {"a {%- raw %} b {% endraw -%} c"},
    {"x\n  {% raw %}\n  {% y %}\n  {% endraw %}\nz"},
    {"{%- for v in xs %}\n  {{ v }}\n{%- endfor %}"},
    {"\n{% for v in xs %}\n{{ v }}\n{% endfor %}\n"},
    {"{% for v in xs -%}\n  {{ v }}\n{% endfor %}"},
    {"{{ x }}\n"},
    {"{{ x }}\n\n"},
    {"a\r\nb{{ x }}\r\n{% if true %}\r\nc{% endif %}\rd\r\n"},
    {"a\u3000\u00a0{%- if true %}b{% endif %}"},
    {"x\n\t {% if true %}y{% endif %}"},
    {"{{ x }}  {% if true %}y{% endif %}"},
    {"{%- set a = 1 %}  {{ a }}"},
    {"{% set a = 1 -%}\n\n  {{ a }}"},
    {"  {%- if true -%}  \n  a  \n  {%- endif -%}  "},
    {"a\n  {% if false %}\n  b\n  {% else %}\n  c\n  {% endif %}\n"},
    {"{% for v in xs %}{{ v }}{% if not loop.last %}, {% endif %}{% endfor %}"},
    // ---- literals and printing (Python str / repr) ----
    {"{{ 1 }}|{{ 1.0 }}|{{ 1e-5 }}|{{ 1e16 }}|{{ 1e15 }}|{{ 1.5e300 }}|{{ 0.1 + 0.2 }}|{{ 123456789.125 }}"},
    {"{{ none }}|{{ None }}|{{ true }}|{{ False }}|{{ n }}|{{ t }}"},
    {"{{ [1, 'a', none, true, 2.5] }}|{{ {'a': 1, 'b': [1, 2]} }}|{{ (1,) }}|{{ () }}|{{ (1, 2) }}"},
    {R"~({{ ["it's", 'say "hi"', 'both \' "', 'tab\tnl\n', 'é\u00a0\x01\x7f', '\u2028\U0001F600'] }})~"},
    {R"~({{ 'a\nb\tc\\d\x41\u00e9\U0001F600\101\d' }})~"},
    {"{{ 'abc' 'def' }}|{{ \"x\" 'y' }}"},
    {"{{ 0x1F }}|{{ 0b101 }}|{{ 0o17 }}|{{ 1_000 }}|{{ 1_0.5 }}|{{ 2e3 }}"},
    {"{{ d }}|{{ m }}|{{ users[0] }}"},
    {"{{ big }}|{{ f }}|{{ u }}"},
    {"{{ x, 'a' }}"},
    // ---- operators ----
    {"{{ -3 // 2 }}|{{ -3 % 2 }}|{{ 3 / 2 }}|{{ 2 ** 10 }}|{{ 2 ** -1 }}|{{ 7 % -3 }}|{{ -7.5 // 2 }}|{{ 7.5 % -2 }}|{{ 4 / 2 }}"},
    {"{{ 'ab' * 3 }}|{{ [1] * 2 }}|{{ 3 * 'x' }}|{{ 1 + 2.5 }}|{{ true + 1 }}|{{ [1, 2] + [3] }}|{{ 'a' * 0 }}"},
    {"{{ 'a' ~ 1 ~ none ~ undefined_var ~ [1] }}"},
    {"{{ 1 < 2 < 3 }}|{{ 3 > 2 > 2 }}|{{ 1 == 1.0 }}|{{ 'a' < 'b' }}|{{ [1, 2] < [1, 3] }}|{{ 2 >= 2 }}|{{ 1 != 1 }}|{{ (1, 2) <= (1, 2) }}"},
    {"{{ 'b' in 'abc' }}|{{ 2 in xs }}|{{ 'a' in d }}|{{ 3 not in [1] }}|{{ 'z' not in 'abc' }}|{{ 1 in undefined_var }}"},
    {"{{ 0 or 'x' }}|{{ 1 and 'y' }}|{{ '' and 'z' }}|{{ none or [] }}|{{ not 0 }}|{{ not xs }}|{{ e or n or 'last' }}"},
    {"{{ 'yes' if x else 'no' }}|{{ 'yes' if e else 'no' }}|{{ 'y' if e }}|{{ 1 if n else 2 if x else 3 }}"},
    {"{{ -x }}|{{ +x }}|{{ - -x }}|{{ -1|abs }}|{{ -f }}|{{ not x == 2 }}"},
    {"{{ 1 + 2 * 3 ** 2 }}|{{ (1 + 2) * 3 }}|{{ 2 ** 3 ** 2 }}|{{ 10 - 2 - 3 }}|{{ 'a' ~ 1 + 2 }}"},
    {"{{ 1 == 1 == 1 }}|{{ 1 < x + 1 }}|{{ x is defined and x > 0 }}|{{ none == none }}|{{ [] == [] }}|{{ {} == {} }}"},
    // ---- attribute, item and slice access ----
    {"{{ m.role }}|{{ m['content'] }}|{{ m.missing }}|{{ m.items() | list }}|{{ d['items'] }}|{{ d.a.b }}|{{ d['a']['b'] }}"},
    {"{{ m.get('role') }}|{{ m.get('x', 'dflt') }}|{{ m.get('x') }}|{{ m.keys() | list }}|{{ m.values() | list }}|{{ m.items() | length }}"},
    {"{{ xs[0] }}|{{ xs[-1] }}|{{ xs[10] }}|{{ xs.1 }}|{{ 'abc'[1] }}|{{ u[0] }}|{{ u[-1] }}|{{ n.x }}"},
    {"{{ xs[1:] }}|{{ xs[::-1] }}|{{ xs[-2:] }}|{{ xs[:1] }}|{{ xs[::2] }}|{{ xs[5:] }}|{{ xs[-10:1] }}|{{ xs[3:0:-1] }}"},
    {"{{ 'hello'[1:3] }}|{{ 'hello'[::-1] }}|{{ u[1:4] }}|{{ u[::-2] }}|{{ 'abc'[:] }}"},
    {"{{ xs.append }}|{{ d.pop }}|{{ m.content.upper() }}|{{ m['content'].lower() }}"},
    {"{{ users[1].name }}|{{ users.0.age }}|{{ tree[0].c[0].n }}"},
    // ---- for loops ----
    {"{% for v in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}"},
    {"{% for v in xs %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}"},
    {"{% for v in xs %}{{ loop.cycle('a', 'b') }}{% endfor %}|{% for v in [1, 1, 2, 2, 1] %}{{ loop.changed(v) }}{% endfor %}"},
    {"{% for v in [] %}a{% else %}empty{% endfor %}|{% for v in xs %}{{ v }}{% else %}never{% endfor %}"},
    {"{% for v in xs if v > 1 %}{{ v }}{{ loop.index }}{{ loop.length }}{% endfor %}"},
    {"{% for k, v in m.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }}{% endfor %}"},
    {"{% for c in u %}{{ c }}.{% endfor %}"},
    {"{% for v in xs %}{% if v == 2 %}{% break %}{% endif %}{{ v }}{% endfor %}|{% for v in xs %}{% if v == 2 %}{% continue %}{% endif %}{{ v }}{% endfor %}"},
    {"{% for v in [1] %}{% break %}{% else %}E{% endfor %}|{% for v in [1, 2] %}{% continue %}{% else %}F{% endfor %}"},
    {"{% for v in xs %}{% set y = v %}{% endfor %}[{{ y }}]"},
    {"{% set y = 5 %}{% for v in xs %}{{ y }}{% set y = v %}{% endfor %}{{ y }}"},
    {"{% for a, b in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}|{% for a, b in ['xy', 'zw'] %}{{ b }}{{ a }}{% endfor %}"},
    {"{% for v in [1, 2] %}{% for w in [3, 4] %}{{ loop.index }}{{ v }}{{ w }} {% endfor %}{{ loop.index }}|{% endfor %}"},
    {"{% for item in tree recursive %}[{{ item.n }}:{{ loop.depth }}{% if item.c %}{{ loop(item.c) }}{% endif %}]{% endfor %}"},
    {"{% for v in undefined_var %}x{% endfor %}ok|{% for v in 'ab' %}{{ v }}{% endfor %}|{% for v in range(3) %}{{ v }}{% endfor %}"},
    {"{% for m2 in ms[::-1] %}{{ loop.index0 }}{{ m2 }}{% endfor %}"},
    // ---- if / set / with ----
    {"{% if x == 1 %}a{% elif x == 2 %}b{% else %}c{% endif %}|{% if x == 3 %}a{% elif x == 1 %}b{% endif %}"},
    {"{% if undefined_var %}a{% else %}b{% endif %}|{% if xs %}{{ xs|length }}{% endif %}|{% if n is none %}N{% endif %}"},
    {"{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set c = 1, 2 %}{{ c }}"},
    {"{% set v %}hello {{ x }}{% endset %}{{ v }}|{{ v|length }}|{% set w | upper %}abc{{ x }}{% endset %}{{ w }}"},
    {"{% if true %}{% set z = 1 %}{% endif %}{{ z }}"},
    {"{% set ns = namespace(a=1, b='x') %}{% set ns.a = ns.a + 1 %}{{ ns.a }}{{ ns.b }}|{{ ns }}|{{ ns.missing }}"},
    {"{% set ns = namespace(found=false) %}{% for v in xs %}{% if v == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }}"},
    {"{% set ns = namespace({'k': 1}, j=2) %}{{ ns.k }}{{ ns.j }}{{ ns['k'] }}"},
    {"{% with a = 1, b = x %}{{ a }}{{ b }}{% endwith %}[{{ a }}]"},
    {"{% set messages = ms[1:] %}{{ messages }}|{% set x = x + 1 %}{{ x }}"},
    {"{% filter upper %}hello {{ ms[0] }}{% endfilter %}|{% filter trim %}  ab  {% endfilter %}"},
    {"{% print x, 'a' %}|{% print ms %}"},
    // ---- macros ----
    {"{% macro f(a, b='d') %}{{ a }}-{{ b }}{% endmacro %}{{ f(1) }}|{{ f(1, 2) }}|{{ f(a=3, b=4) }}|{{ f(b=5, a=6) }}"},
    {"{% macro g() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ g(1, 2, k=3) }}|{{ g() }}"},
    {"{% macro h(x) %}[{{ caller() }}{{ x }}]{% endmacro %}{% call h(1) %}inside {{ ms[0] }}{% endcall %}"},
    {"{% macro h() %}{{ caller(5) }}{{ caller(6) }}{% endmacro %}{% call(v) h() %}v={{ v }};{% endcall %}"},
    {"{% set gl = 'G' %}{% macro f() %}{{ gl }}{{ x }}{% endmacro %}{{ f() }}{% set gl = 'H' %}{{ f() }}"},
    {"{% macro f(a) %}[{{ a }}]{% endmacro %}{{ f() }}|{{ f(none) }}|{% macro r(n) %}{% if n > 0 %}{{ n }}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}"},
    {"{% macro r(n) %}{% if n > 0 %}{{ r(n - 1) }}{% else %}bottom{% endif %}{% endmacro %}{{ r(90) }}"},
    {"{% macro f(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ f(2) }}|{{ f(2, 1) }}"},
    {"{% macro f() %}  x  {% endmacro %}[{{ f() }}]|{{ f()|trim }}|{{ f()|length }}"},
    // ---- filters ----
    {"{{ '  a b  '|trim }}|{{ 'xxaxx'|trim('x') }}|{{ s|trim }}|{{ '\u3000a\u00a0'|trim }}|{{ undefined_var|trim }}"},
    {"{{ d|tojson }}|{{ m|tojson(indent=2) }}|{{ '\u00e9\"\\n\t\x01'|tojson }}|{{ [1, 2.0, none, true, 1e-7]|tojson }}"},
    {"{{ d|tojson(sort_keys=true) }}|{{ m|tojson(separators=(',', ':')) }}|{{ u|tojson(ensure_ascii=true) }}|{{ users|tojson(indent=1) }}"},
    {"{{ {'a': [], 'b': {}, 'c': [1]}|tojson(indent=2) }}|{{ {1: 'a', none: 2, 2.5: true}|tojson }}|{{ (1, 'x')|tojson }}|{{ 'x'|tojson(indent='\t') }}"},
    {"{{ xs|length }}|{{ u|length }}|{{ d|count }}|{{ undefined_var|length }}|{{ ''|length }}"},
    {"{{ 1|string }}|{{ none|string }}|{{ [1, 'a']|string }}|{{ 2.50|string }}|{{ undefined_var|string }}"},
    {"{{ '42'|int }}|{{ '4.7'|int }}|{{ 'x'|int }}|{{ 'x'|int(7) }}|{{ '0x1A'|int(base=16) }}|{{ ' -12 '|int }}|{{ '1_000'|int }}|{{ 3.9|int }}|{{ true|int }}|{{ none|int }}"},
    {"{{ '3.5'|float }}|{{ 'a'|float }}|{{ 2|float }}|{{ ' 1e3 '|float }}|{{ 'nan'|float }}|{{ '-inf'|float }}|{{ none|float(1.5) }}"},
    {"{{ undefined_var|default('d') }}|{{ ''|default('e') }}|{{ ''|default('e', true) }}|{{ n|d('n') }}|{{ undefined_var|d }}|{{ 0|default(5, boolean=true) }}"},
    {"{% for k, v in m|items %}{{ k }}{{ v }}{% endfor %}|{% for k, v in undefined_var|items %}x{% endfor %}"},
    {"{{ xs|join(', ') }}|{{ [1, none, 'a']|join }}|{{ users|join(',', attribute='name') }}|{{ 'abc'|join('-') }}|{{ undefined_var|join(',') }}"},
    {"{{ xs|first }}|{{ xs|last }}|{{ []|first }}|{{ 'abc'|last }}|{{ d|first }}|{{ undefined_var|last }}"},
    {"{{ xs|reverse|list }}|{{ 'abc'|reverse }}|{{ u|reverse }}|{{ xs|select('odd')|reverse|list }}|{{ range(3)|reverse|list }}"},
    {"{{ 'ab'|list }}|{{ d|list }}|{{ undefined_var|list }}|{{ (1, 2)|list }}"},
    {"{{ users|map(attribute='name')|list }}|{{ xs|map('string')|join('-') }}|{{ users|map(attribute='missing', default='z')|list }}|{{ [[1, 2], [3]]|map('length')|list }}"},
    {"{{ ms|map('upper')|list }}|{{ ['1', '2']|map('int')|sum }}|{{ users|map(attribute='name')|map('capitalize')|join }}"},
    {"{{ xs|select('odd')|list }}|{{ xs|reject('even')|list }}|{{ xs|select('greaterthan', 1)|list }}|{{ [0, 1, '', 'a', none]|select|list }}|{{ [0, 1]|reject|list }}"},
    {"{{ users|selectattr('active')|map(attribute='name')|list }}|{{ users|rejectattr('name', 'equalto', 'bob')|map(attribute='name')|join }}|{{ users|selectattr('age', '>', 26)|list|length }}"},
    {"{{ 'hello world'|upper }}|{{ 'HeLLo'|lower }}|{{ 'hello WORLD'|capitalize }}|{{ 'hello-world foo(bar [x<y'|title }}|{{ u|upper }}"},
    {"{{ 'aaa'|replace('a', 'b', 2) }}|{{ 'abc'|replace('', '-') }}|{{ 'a.b'|replace('.', '') }}|{{ 12|replace(1, 3) }}"},
    {"[{{ 'a\nb\n\nc'|indent(2) }}]|[{{ 'a\nb'|indent(2, true) }}]|[{{ 'a\n\nb\n'|indent('> ', blank=true) }}]|[{{ ''|indent }}]"},
    {"{{ '<b>\"&\\''|e }}|{{ '<b>'|safe }}|{{ ('<b>'|safe) + '<i>' }}|{{ '<a>' + ('<b>'|safe) }}|{{ ('<x>'|e)|e }}|{{ '<b>'|safe is escaped }}|{{ '<'|forceescape }}"},
    {"{{ 2.5|round }}|{{ 3.5|round }}|{{ 3.14159|round(2) }}|{{ 2.675|round(2) }}|{{ 3|round }}|{{ 2.1|round(0, 'ceil') }}|{{ 2.9|round(method='floor') }}|{{ -0.5|round }}|{{ 1234.5678|round(-2) }}"},
    {"{{ -3|abs }}|{{ -2.5|abs }}|{{ true|abs }}"},
    {"{{ [1, 2, 1, 'A', 'a', 1.0]|unique|list }}|{{ ['A', 'a']|unique(case_sensitive=true)|list }}|{{ users|unique(attribute='age')|map(attribute='name')|list }}"},
    {"{{ [3, 1, 2]|sort }}|{{ ['b', 'A', 'c']|sort }}|{{ ['b', 'A', 'c']|sort(case_sensitive=true) }}|{{ users|sort(attribute='age')|map(attribute='name')|list }}|{{ [3, 1]|sort(reverse=true) }}"},
    {"{{ users|sort(attribute='age,name', reverse=true)|map(attribute='name')|join }}|{{ [(2, 'b'), (1, 'z'), (2, 'a')]|sort }}"},
    {"{{ {'b': 1, 'a': 2, 'C': 0}|dictsort }}|{{ {'b': 1, 'a': 2}|dictsort(by='value') }}|{{ {'b': 1, 'a': 2}|dictsort(reverse=true) }}"},
    {"{{ [3, 1, 2]|min }}|{{ [3, 1, 2]|max }}|{{ [1, 2, 3]|sum }}|{{ users|sum(attribute='age') }}|{{ ['b', 'A']|max }}|{{ users|max(attribute='age')|attr('name') }}|{{ []|max }}"},
    {"{{ [1, 2, 3, 4, 5]|batch(2)|list }}|{{ [1, 2, 3]|batch(2, 'x')|list }}|{{ [1, 2, 3, 4, 5]|slice(2)|list }}|{{ [1, 2, 3, 4]|slice(3, 0)|list }}"},
    {"{% for g, items in users|groupby('age') %}{{ g }}:{{ items|map(attribute='name')|join(',') }};{% endfor %}|{% for grp in users|groupby('active') %}{{ grp.grouper }}={{ grp.list|length }} {% endfor %}"},
    {"[{{ 'ab'|center(7) }}]|{{ 'hello world foo'|truncate(9, leeway=0) }}|{{ 'hello world foo'|truncate(9, true, leeway=0) }}|{{ 'hello'|truncate(3) }}|{{ '%s=%d'|format('a', 3) }}|{{ '%(k)s'|format(k='v') }}"},
    {"{{ ns|attr('k') }}|{{ m|attr('role') }}|{{ 'x'|attr('nope') }}"},
    // ---- tests ----
    {"{{ x is defined }}{{ y is undefined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ 1 is integer }}{{ 1.0 is float }}{{ true is integer }}{{ true is number }}"},
    {"{{ d is mapping }}{{ xs is iterable }}{{ xs is sequence }}{{ true is boolean }}{{ true is true }}{{ false is false }}{{ 1 is true }}{{ 'a' is sequence }}{{ d is sequence }}"},
    {"{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}{{ 2 is equalto 2 }}{{ 2 is eq 2 }}{{ 2 is in [2] }}{{ 2 is in([1]) }}"},
    {"{{ 'abc' is lower }}{{ 'ABC' is upper }}{{ 'aB' is lower }}{{ 1 is ne 2 }}{{ 3 is gt 2 }}{{ 3 is ge 3 }}{{ 1 is lt 2 }}{{ 1 is le 0 }}{{ 3 is greaterthan 1 }}{{ 3 is lessthan 1 }}"},
    {"{{ x is not none }}{{ 'upper' is filter }}{{ 'nofilter' is filter }}{{ 'odd' is test }}{{ none is sameas none }}{{ xs is sameas xs }}{{ range is callable }}{{ 'a' is escaped }}"},
    {"{{ undefined_var is iterable }}{{ undefined_var is sequence }}{{ undefined_var is mapping }}{{ undefined_var is string }}{{ undefined_var is none }}{{ undefined_var is callable }}"},
    {"{{ n is string }}{{ m.content is string }}{{ m.missing is string }}{{ m.missing is defined }}{{ xs|select('odd') is iterable }}{{ xs|select('odd') is sequence }}"},
    {"{% if m.content is string and not (m.content.startswith('<t>') and m.content.endswith('</t>')) %}plain{% endif %}"},
    // ---- string methods ----
    {"[{{ s.strip() }}]|{{ '--a--'.strip('-') }}|[{{ '  a'.lstrip() }}]|{{ 'a\n\n'.rstrip('\n') }}|{{ '\nx\n'.strip('\n') }}|{{ 'abc'.strip('') }}|{{ 'ab'.strip(none) }}"},
    {"{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a,b,c'.split(',', 1) }}|{{ 'a,b,c'.rsplit(',', 1) }}|{{ 'a b  c'.split(none, 1) }}|{{ ' a b '.rsplit(maxsplit=1) }}|{{ ''.split(',') }}|{{ ''.split() }}"},
    {"{{ 'x</think>y</think>z'.split('</think>')[-1] }}|{{ 'x</think>y'.split('</think>')[0].split('<think>')[-1] }}"},
    {"{{ 'hello'.startswith('he') }}{{ 'hello'.endswith(('x', 'lo')) }}{{ 'hello'.startswith('l', 2) }}{{ 'hello'.startswith('') }}{{ 'hi'.endswith('hi', 0, 1) }}"},
    {"{{ 'Hello'.upper() }}|{{ 'Hello'.lower() }}|{{ 'hello world'.title() }}|{{ 'hELLO'.capitalize() }}|{{ \"they're bill's\".title() }}"},
    {"{{ 'a-b-c'.replace('-', '+') }}|{{ 'a-b-c'.replace('-', '', 1) }}|{{ 'hello'.find('l') }}|{{ 'hello'.rfind('l') }}|{{ 'hello'.find('z') }}|{{ 'hello'.count('l') }}|{{ 'aaa'.count('') }}|{{ u.find('✓') }}"},
    {"{{ '{} and {}'.format(1, 'b') }}|{{ '{0}{name}{0}'.format('x', name='y') }}|{{ '{:>5}|{:.2f}|{:<4}|{:^5}|{:05d}|{:,}'.format('a', 3.14159, 'b', 'c', 42, 1234567) }}|{{ '{{}}{}'.format(1) }}|{{ '{0[0]}{1.role}'.format(xs, m) }}"},
    {"{{ ','.join(['a', 'b']) }}|{{ 'abc'.index('c') }}|{{ 'a\tb'.expandtabs(4) }}|{{ 'x'.zfill(3) }}|{{ '-5'.zfill(4) }}|{{ 'a b c'.partition(' ') }}|{{ 'a b c'.rpartition(' ') }}|{{ 'abc'.removeprefix('a') }}|{{ 'abc'.removesuffix('c') }}"},
    {"{{ 'a\nb\r\nc\rd'.splitlines() }}|{{ 'a\nb\n'.splitlines(true) }}|{{ 'ab'.center(6, '*') }}|{{ 'ab'.ljust(4, '.') }}|{{ 'ab'.rjust(4) }}"},
    {"{{ 'ÉCOLE Straße'.lower() }}|{{ 'straße ǆ ﬁ'.upper() }}|{{ 'ǆemal ǉ'.title() }}|{{ 'ΟΔΟΣ ΣΑ'.lower() }}|{{ 'ǆ'.capitalize() }}|{{ 'İ'.lower()|length }}"},
    {"{{ '123'.isdigit() }}{{ 'abc'.isalpha() }}{{ 'ab1'.isalnum() }}{{ ' \t'.isspace() }}{{ ''.isspace() }}{{ 'abc'.islower() }}{{ 'A1'.isupper() }}{{ 'x'.isascii() }}"},
    {"{{ '%s|%r|%d|%5.2f|%-4s|%x|%o|%e|%%|%c'|format('a', 'b', 3.7, 2.345, 'z', 255, 8, 12345.678, 65) }}|{{ '%03d' % 7 }}|{{ '%s and %s' % ('a', 'b') }}|{{ '%(a)s' % {'a': 1} }}"},
    // ---- globals ----
    {"{{ range(3)|list }}|{{ range(1, 10, 3)|list }}|{{ range(5)[::-1]|list }}|{{ range(3) }}|{{ range(10)[2:8:2] }}|{{ range(10)[5:2] }}|{{ range(2, 20, 3)[::-2] }}|{{ range(3)|length }}|{{ range(0) }}"},
    {"{{ dict(a=1) }}|{{ dict([('a', 1)], b=2) }}|{{ dict(m, role='system') }}|{{ dict() }}"},
    {"{% set j = joiner('|') %}{% for v in xs %}{{ j() }}{{ v }}{% endfor %}"},
    {"{% if strftime_now is defined %}defined{% endif %}|{{ raise_exception is defined }}|{{ namespace is defined }}"},
    // ---- undefined values ----
    {"[{{ undefined_var }}]|{{ undefined_var is defined }}|{{ n.x }}|{{ m.nope }}|{{ (m.nope or 'fallback') }}|{{ undefined_var == undefined_var2 }}|{{ undefined_var == none }}"},
    {"{{ undefined_var.attr }}"},
    {"line1\n{{ m.missing.x }}"},
    {"{{ xs.append(1) }}"},
    {"{{ undefined_var + 1 }}"},
    {"{{ undefined_func() }}"},
    {"{{ -undefined_var }}"},
    {"{{ undefined_var < 1 }}"},
    {"{{ undefined_var['k'] }}"},
    {"{{ 'abc'|first|upper }}|{{ (undefined_var or {}).get('x', 1) }}"},
    // ---- runtime errors ----
    {"{{ 1 + 'a' }}"},
    {"{{ 'a' + 1 }}"},
    {"ok\n{{ raise_exception('boom: ' ~ x) }}"},
    {"a\nb\n{% if x %}\n{{ 1 // 0 }}\n{% endif %}"},
    {"{{ 1 / 0 }}"},
    {"{{ none|length }}"},
    {"{% for v in 5 %}{% endfor %}"},
    {"{% for a, b in [(1, 2, 3)] %}{% endfor %}"},
    {"{% set v = 5 %}{% set v.x = 1 %}"},
    {"{{ namespace(_x=1) }}"},
    {"{{ xs|select('odd')|length }}"},
    {"{{ ''.split('') }}"},
    {"{{ [] < {} }}"},
    {"{% macro f(a) %}{% endmacro %}{{ f(1, 2) }}"},
    {"{% macro f(a) %}{% endmacro %}{{ f(b=1) }}"},
    {"{{ range(200000)|length }}"},
    {"{{ 'x\n' +\n  m.missing.y +\n 'z' }}"},
    {"a\n{{ xs|join(',') }}{{ 'one\ntwo' ~\n undefined_var.y }}"},
    {"{% if\n m.missing.y %}{% endif %}"},
    {"{% if false %}{% elif\n\n m.missing.y %}{% endif %}"},
    {"{% for v in xs if\n v.missing.y %}{% endfor %}"},
    {"{% set v =\n m.missing.y %}"},
    {"{% macro f() %}\nline2\n{{ m.missing.y }}{% endmacro %}\n{{ f() }}"},
    {"{{ {}|items|list }}|{% if 'x'|items %}truthy{% endif %}"},
    {"{{ 'x'|items|list }}"},
    {"{% if x %}{{ x|nosuchfilter }}{% endif %}"},
    {"{% if e %}{{ x|nosuchfilter }}{% endif %}soft"},
    {"{{ 'y' if e else x|nosuchfilter }}"},
    // ---- parse errors ----
    {"{% for v in xs %}"},
    {"{{ x | nosuchfilter }}"},
    {"{% for v in xs %}{{ v is nosuchtest }}{% endfor %}"},
    {"{% foo %}"},
    {"{{ x + }}"},
    {"a\n{% endfor %}"},
    {"{{ 'abc }}"},
    {"a\n{# unclosed comment"},
    {"{% set 1 = 2 %}"},
    {"a\n\n{% if %}"},
    {"{% if x %}a{% endfor %}"},
    {"{{ x }"},
    {"{{ (1, 2 }}"},
    {"{{ [1, 2) }}"},
    {"{% macro f(a=1, b) %}{% endmacro %}"},
    {"{{ x is defined is defined }}"},
    {"{% for loop in xs %}{% endfor %}"},
    {"{% raw %}unclosed"},
    {"{{ 1 2 }}"},
    {"{% generation %}x"},
    // ---- {% generation %} spans ----
    {"a{% generation %}b{{ x }}{% endgeneration %}c"},
    {"{% for v in ms %}<{% generation %}[{{ v }}]{% endgeneration %}>{% endfor %}"},
    {"{% macro f() %}x{% generation %}yy{% endgeneration %}{% endmacro %}AB{{ f() }}"},
    {"a{% generation %}b{% generation %}c{% endgeneration %}d{% endgeneration %}e"},
    {"é{% generation %}ü{{ u }}{% endgeneration %}ñ"},
    {"x\n  {%- generation %}\n  y\n  {%- endgeneration %}\nz"},
    {"{% set sv %}{% generation %}q{% endgeneration %}{% endset %}AB{{ sv }}"},
    {"{% for v in ms %}{% generation %}{% set w = v ~ v %}{{ w }}{% endgeneration %}[{{ w }}]{% endfor %}"},
    {"{% generation %}{% endgeneration %}|{% if false %}{% generation %}z{% endgeneration %}{% endif %}"},
    {"{% for v in tree recursive %}{% generation %}{{ v.n }}{% endgeneration %}{% if v.c %}({{ loop(v.c) }}){% endif %}{% endfor %}"},
    // ---- contexts of their own ----
    {"{{ messages[0]['content'] }}{{ bos_token }}", R"~({"messages": [{"role": "user", "content": "q"}], "bos_token": "<s>"})~"},
    {"{% for k, v in d.items() %}{{ k }}{% endfor %}|{{ d|tojson }}", R"~({"d": {"z": 1, "a": 2, "m": 3}})~"},
    {"{{ v }}|{{ v|tojson }}|{{ -v }}", R"~({"v": -0.0})~"},
    {"{{ v }}|{{ v * 2 }}|{{ v|tojson }}", R"~({"v": 1.5e-10})~"},
    {"{{ a }}{{ b }}{{ a + b }}", R"~({"a": 9007199254740993, "b": 1.0})~"},
};

std::string case_name(std::size_t k) { return "case" + std::to_string(k); }

TEST(ChatTemplateMicro, MatchesJinja2ByteForByte) {
  R1_REQUIRE_REFERENCE();
  std::vector<ordered_json> requests;
  for (const Case& c : kCases) {
    requests.push_back({{"template", c.tmpl}, {"context", ordered_json::parse(c.context ? c.context : kDefaultContext)}});
  }
  const std::vector<ordered_json> reference = test::run_reference("cases", requests);
  ASSERT_EQ(reference.size(), requests.size());
  std::size_t num_errors = 0;
  for (std::size_t k = 0; k < requests.size(); ++k) {
    std::string error;
    std::optional<ChatTemplate::Rendered> rendered;
    try {
      rendered = ChatTemplate::parse(kCases[k].tmpl, case_name(k)).render(requests[k]["context"]);
    } catch (const Error& e) {
      error = e.what();
    }
    num_errors += reference[k].contains("error");
    const std::string diff = test::compare_with_reference(reference[k], rendered ? &*rendered : nullptr, error, case_name(k));
    EXPECT_EQ(diff, "") << case_name(k) << ": " << ordered_json(kCases[k].tmpl).dump();
  }
  // The table must keep exercising both outcomes.
  EXPECT_GE(requests.size(), 150u);
  EXPECT_GE(num_errors, 40u);
}

// One parsed template rendered from several threads at once gives every thread the same text.
TEST(ChatTemplateMicro, RendersConcurrently) {
  const ChatTemplate t = ChatTemplate::parse(
      "{% set ns = namespace(n=0) %}{% macro f(m) %}<{{ m.role }}>{{ m.content|trim }}{% endmacro %}"
      "{% for m in messages %}{% set ns.n = ns.n + 1 %}{% generation %}{{ f(m) }}{% endgeneration %}"
      "{% endfor %}{{ ns.n }}{{ messages|map(attribute='role')|join(',') }}",
      "threads");
  const ordered_json ctx = ordered_json::parse(
      R"({"messages": [{"role": "user", "content": " héllo "}, {"role": "assistant", "content": "ok"}]})");
  const std::string expected = "<user>héllo<assistant>ok2user,assistant";
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&] {
      for (int n = 0; n < 200; ++n) {
        const ChatTemplate::Rendered r = t.render(ctx);
        if (r.text != expected || r.generation_spans.size() != 2) ++mismatches;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace r1::tokenizer
