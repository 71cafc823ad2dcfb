/**
 * Turns: steps run one after another, each once every step before it has finished, whatever it
 * awaits. The one queue of the objects (docs/key-object.md, serialisation): admin changes take
 * turns in `OrderedWrites`, an owned key's requests that charge its own balance in
 * `OwnedMetering`. A step that fails does not stop the ones after it.
 */
export class Turns {
  private last: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const result = this.last.then(step);
    this.last = result.catch(() => undefined);
    return result;
  }
}
