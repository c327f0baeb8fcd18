"""Chunks of one small realistic file per language, on the real tree-sitter grammars."""

from __future__ import annotations

import itertools

import pytest

from greenpair.core.repo.chunker import chunk_file
from greenpair.core.repo.languages import GRAMMAR_LANGUAGES, detect_language, parse_errors

# One file per language (the first newline of each literal is not part of the file).
SAMPLES = {
    "Cart.cs": r"""
using System;
namespace Shop.Core
{
    /// <summary>A cart.</summary>
    [Serializable]
    public class Cart : ICart
    {
        private int count;
        public int Count { get { return count; } }
        public Cart() { count = 0; }
        public void Add(int x)
        {
            count += x;
        }
    }
    public interface ICart { void Add(int x); }
    public struct P { public int X; }
    public enum Color { Red }
    public record Person(string Name);
}
""",
    "Cart.java": r"""
package shop;

import java.util.List;

/** A cart. */
@Entity
public class Cart {
    private List<Item> items;

    /** Adds. */
    @Override
    public void add(Item it) {
        items.add(it);
    }

    public Cart() {
        items = null;
    }

    interface Visitor { void visit(); }
    enum Kind { A, B }
    record Point(int x, int y) {}
}
""",
    "Cart.php": r"""
<?php
namespace Shop;

use Foo\Bar;

/** A cart. */
#[Entity]
class Cart extends Base implements Countable
{
    private array $items = [];

    public function add(Item $it): void
    {
        $this->items[] = $it;
    }
}

interface Shape { public function area(): float; }
trait Greets { public function hi() { return 1; } }
enum Suit { case Hearts; }

function helper($x) {
    return $x;
}
""",
    "Checkout.jsx": r"""
import React from "react";

// Shows the checkout button.
export function CheckoutButton({ onClick }) {
  return <button onClick={onClick}>Pay</button>;
}

export default class Checkout extends React.Component {
  state = { busy: false };

  handlePay = async () => {
    this.setState({ busy: true });
    await pay();
  };

  render() {
    return <CheckoutButton onClick={this.handlePay} />;
  }
}

const formatPrice = (cents) =>
  `${(cents / 100).toFixed(2)} EUR`;
""",
    "Panel.tsx": r"""
import { useState } from "react";

interface PanelProps {
  title: string;
  open?: boolean;
}

export function Panel({ title, open = false }: PanelProps) {
  const [isOpen, setOpen] = useState(open);
  return <section onClick={() => setOpen(!isOpen)}>{title}</section>;
}

export const usePanel = (initial: boolean): [boolean, () => void] => {
  const [v, set] = useState(initial);
  return [v, () => set(!v)];
};
""",
    "build.sh": r"""
#!/bin/bash
set -e

# Greets.
greet() {
  echo "hi $1"
}

function build {
  make all
}

greet world
""",
    "cart.kt": r"""
package shop

/** A cart. */
@Serializable
data class Cart(val id: Int) : Base() {
    private val items = mutableListOf<Item>()

    fun add(item: Item) {
        items.add(item)
    }

    companion object {
        fun empty(): Cart {
            return Cart(0)
        }
    }
}

interface Shape {
    fun area(): Double
}

enum class Color { RED, GREEN }

fun main(args: Array<String>) {
    println("hi")
}
""",
    "cart.rb": r"""
require "json"

module Shop
  # A cart.
  class Cart < Base
    attr_reader :items

    def initialize
      @items = []
    end

    def self.empty
      new
    end
  end
end

def helper(x)
  x * 2
end
""",
    "cart.ts": r"""
import { x } from "./x";

/** A cart. */
@Component({})
export class Cart<T> extends Base implements ICart {
  private items: T[] = [];
  @Input() name: string;
  constructor(private svc: Svc) {
    super();
  }
  add(item: T): void {
    this.items.push(item);
  }
  handle = (e: Event) => {
    console.log(e);
  };
}

export interface ICart {
  add(item: unknown): void;
}
export type Id = string | number;
export enum Color { Red, Green }
export const total = (c: Cart<number>): number => {
  return 0;
};
export default function main() {
  return 1;
}
namespace Util {
  export function f() {}
}
abstract class Shape { abstract area(): number; }
""",
    "shop.c": r"""
#include <stdio.h>

typedef struct {
    int x;
} Point;

struct node {
    struct node *next;
};

enum color { RED, GREEN };

/* Adds. */
static int *add(int a, int b)
{
    return 0;
}
int sum(int n);
""",
    "shop.cpp": r"""
#include <vector>
namespace shop {
class Cart : public Base {
 public:
  void add(int x) {
    items.push_back(x);
  }
  int size() const;
 private:
  std::vector<int> items;
};

int Cart::size() const {
  return items.size();
}

template <typename T>
T maxof(T a, T b) {
  return a > b ? a : b;
}
struct P { int x; };
}
""",
    "shop.go": r"""
package shop

import "fmt"

// Cart holds items.
type Cart struct {
	Items []Item
}

type Pricer interface {
	Price() int
}

// Add appends an item.
func (c *Cart) Add(it Item) {
	c.Items = append(c.Items, it)
}

func Total(c Cart) int {
	return 0
}

type ID int
""",
    "shop.rs": r"""
use std::fmt;

/// A cart.
#[derive(Debug)]
pub struct Cart {
    items: Vec<u32>,
}

impl Cart {
    pub fn new() -> Self {
        Cart { items: vec![] }
    }
}

impl fmt::Display for Cart {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "cart")
    }
}

pub trait Priced {
    fn price(&self) -> u32;
}

pub enum Color { Red, Green }

mod tests {
    fn helper() {}
}
macro_rules! square { ($x:expr) => { $x * $x }; }
""",
    "cart.test.js": r"""
const { Cart } = require("./cart");

describe("Cart", () => {
  let cart;

  beforeEach(() => {
    cart = new Cart();
  });

  it("adds items", () => {
    cart.add("apple", 1);
    expect(cart.size()).toBe(1);
  });

  test("totals with tax", () => {
    cart.add("apple", 10);
    expect(cart.total()).toBe(12);
  });
});
""",
    "widget.js": r"""
(function widgets() {
  "use strict";

  function render(el) {
    el.innerHTML = "<p>hi</p>";
    return el;
  }

  document.querySelectorAll(".widget").forEach(function (el) {
    render(el);
    el.classList.add("ready");
  });
})();
""",
}

# (start_line, end_line, kind, symbol, parent) of every chunk, in order.
EXPECTED = {
    "cart.test.js": [
        (1, 2, 'module', None, None),
        (3, 5, 'block', 'Cart', None),
        (6, 9, 'block', 'beforeEach', 'Cart'),
        (10, 14, 'block', 'adds items', 'Cart'),
        (15, 19, 'block', 'totals with tax', 'Cart'),
    ],
    "widget.js": [
        (1, 3, 'module', 'widgets', None),
        (4, 8, 'function', 'render', 'widgets'),
        (9, 13, 'block', 'forEach', 'widgets'),
    ],
    "Cart.cs": [
        (1, 1, 'module', None, None),
        (2, 3, 'module', 'Shop.Core', None),
        (4, 10, 'class', 'Cart', 'Shop.Core'),
        (11, 15, 'method', 'Add', 'Cart'),
        (16, 20, 'module', 'Shop.Core', None),
    ],
    "Cart.java": [
        (1, 4, 'module', None, None),
        (5, 9, 'class', 'Cart', None),
        (10, 15, 'method', 'add', 'Cart'),
        (16, 18, 'method', 'Cart', 'Cart'),
        (19, 23, 'class', 'Cart', None),
    ],
    "Cart.php": [
        (1, 5, 'module', None, None),
        (6, 11, 'class', 'Cart', None),
        (12, 16, 'method', 'add', 'Cart'),
        (17, 21, 'module', None, None),
        (22, 24, 'function', 'helper', None),
    ],
    "Checkout.jsx": [
        (1, 2, 'module', None, None),
        (3, 7, 'function', 'CheckoutButton', None),
        (8, 10, 'class', 'Checkout', None),
        (11, 15, 'method', 'handlePay', 'Checkout'),
        (16, 20, 'method', 'render', 'Checkout'),
        (21, 22, 'function', 'formatPrice', None),
    ],
    "Panel.tsx": [
        (1, 2, 'module', None, None),
        (3, 7, 'interface', 'PanelProps', None),
        (8, 12, 'function', 'Panel', None),
        (13, 16, 'function', 'usePanel', None),
    ],
    "build.sh": [
        (1, 3, 'module', None, None),
        (4, 8, 'function', 'greet', None),
        (9, 11, 'function', 'build', None),
        (12, 13, 'module', None, None),
    ],
    "cart.kt": [
        (1, 2, 'module', None, None),
        (3, 7, 'class', 'Cart', None),
        (8, 11, 'method', 'add', 'Cart'),
        (12, 12, 'class', 'Companion', 'Cart'),
        (13, 18, 'method', 'empty', 'Companion'),
        (19, 21, 'interface', 'Shape', None),
        (22, 24, 'module', None, None),
        (25, 27, 'function', 'main', None),
    ],
    "cart.rb": [
        (1, 2, 'module', None, None),
        (3, 3, 'module', 'Shop', None),
        (4, 7, 'class', 'Cart', 'Shop'),
        (8, 11, 'method', 'initialize', 'Cart'),
        (12, 17, 'method', 'empty', 'Cart'),
        (18, 20, 'function', 'helper', None),
    ],
    "cart.ts": [
        (1, 2, 'module', None, None),
        (3, 6, 'class', 'Cart', None),
        (7, 10, 'method', 'constructor', 'Cart'),
        (11, 13, 'method', 'add', 'Cart'),
        (14, 18, 'method', 'handle', 'Cart'),
        (19, 21, 'interface', 'ICart', None),
        (22, 23, 'module', None, None),
        (24, 26, 'function', 'total', None),
        (27, 29, 'function', 'main', None),
        (30, 32, 'module', 'Util', None),
        (33, 33, 'module', None, None),
    ],
    "shop.c": [
        (1, 2, 'module', None, None),
        (3, 6, 'struct', 'Point', None),
        (7, 9, 'struct', 'node', None),
        (10, 12, 'module', None, None),
        (13, 17, 'function', 'add', None),
        (18, 18, 'module', None, None),
    ],
    "shop.cpp": [
        (1, 1, 'module', None, None),
        (2, 2, 'module', 'shop', None),
        (3, 4, 'class', 'Cart', 'shop'),
        (5, 7, 'method', 'add', 'Cart'),
        (8, 12, 'class', 'Cart', 'shop'),
        (13, 16, 'method', 'size', 'Cart'),
        (17, 20, 'function', 'maxof', 'shop'),
        (21, 22, 'module', 'shop', None),
    ],
    "shop.go": [
        (1, 4, 'module', None, None),
        (5, 9, 'struct', 'Cart', None),
        (10, 13, 'interface', 'Pricer', None),
        (14, 18, 'method', 'Add', 'Cart'),
        (19, 21, 'function', 'Total', None),
        (22, 23, 'module', None, None),
    ],
    "shop.rs": [
        (1, 2, 'module', None, None),
        (3, 8, 'struct', 'Cart', None),
        (9, 9, 'impl', 'Cart', None),
        (10, 14, 'method', 'new', 'Cart'),
        (15, 15, 'impl', 'Cart', None),
        (16, 20, 'method', 'fmt', 'Cart'),
        (21, 23, 'trait', 'Priced', None),
        (24, 26, 'module', None, None),
        (27, 29, 'module', 'tests', None),
        (30, 30, 'module', None, None),
    ],
}


def _source(name: str) -> str:
    return SAMPLES[name][1:]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_definitions_per_language(name: str) -> None:
    language = detect_language(name)
    assert language in GRAMMAR_LANGUAGES
    assert parse_errors(language, _source(name)) == 0  # the samples are valid code
    chunks = chunk_file(name, _source(name), language)
    got = [(c.start_line, c.end_line, c.kind, c.symbol, c.parent) for c in chunks]
    assert got == EXPECTED[name]
    assert {c.language for c in chunks} == {language}
    assert {c.path for c in chunks} == {name}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_line_in_exactly_one_chunk(name: str) -> None:
    source = _source(name)
    lines = source.split("\n")[:-1]
    chunks = chunk_file(name, source, detect_language(name))
    assert chunks[0].start_line == 1
    assert chunks[-1].end_line == len(lines)
    for before, after in itertools.pairwise(chunks):
        assert after.start_line == before.end_line + 1
    for chunk in chunks:  # nothing was cut, so each text is exactly its lines
        assert chunk.text == "\n".join(lines[chunk.start_line - 1 : chunk.end_line])


SIGNATURES = {
    ("shop.go", "Add"): "func (c *Cart) Add(it Item)",
    ("shop.rs", "fmt"): "fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result",
    ("shop.rs", "Cart"): "pub struct Cart",
    ("Cart.java", "add"): "public void add(Item it)",  # annotations are left out
    ("shop.c", "add"): "static int *add(int a, int b)",
    ("shop.cpp", "size"): "int Cart::size() const",
    ("Cart.cs", "Cart"): "public class Cart : ICart",
    ("cart.rb", "empty"): "def self.empty",
    ("Cart.php", "add"): "public function add(Item $it): void",
    ("cart.kt", "add"): "fun add(item: Item)",
    ("cart.ts", "total"): "export const total = (c: Cart<number>): number =>",
    ("Panel.tsx", "Panel"): "export function Panel({ title, open = false }: PanelProps)",
}


@pytest.mark.parametrize(("name", "symbol"), sorted(SIGNATURES))
def test_signatures(name: str, symbol: str) -> None:
    chunks = chunk_file(name, _source(name), detect_language(name))
    chunk = next(c for c in chunks if c.symbol == symbol)
    assert chunk.signature == SIGNATURES[name, symbol]


def test_doc_comments_and_attributes_belong_to_their_definition() -> None:
    rust = chunk_file("shop.rs", _source("shop.rs"), "rust")
    cart = next(c for c in rust if c.symbol == "Cart" and c.kind == "struct")
    assert cart.text.startswith("/// A cart.\n#[derive(Debug)]\npub struct Cart {")
    java = chunk_file("Cart.java", _source("Cart.java"), "java")
    add = next(c for c in java if c.symbol == "add")
    assert add.text.lstrip().startswith("/** Adds. */\n    @Override")
    ts = chunk_file("cart.ts", _source("cart.ts"), "typescript")
    assert ts[1].text.startswith("/** A cart. */\n@Component({})\nexport class Cart<T>")
