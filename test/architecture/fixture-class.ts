// A class for the member counter's self-test in size.test.ts.
export class Fixture {
  field = 1
  #hidden = 2
  private internal = 3
  protected inherited = 4
  constructor(readonly given = 0) {}
  method(): number {
    return this.#hidden + this.internal + this.inherited + this.given
  }
  get value(): number {
    return this.field
  }
}
