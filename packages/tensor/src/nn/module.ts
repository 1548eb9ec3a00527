import { Tensor } from '../tensor.js';
import { formatShape, shapesEqual } from '../shape.js';
import { keep } from '../scope.js';

/**
 * A tree of parameters, like torch.nn.Module. Each child and parameter is registered under an explicit
 * name (`this.child('encoder', ...)`, `this.parameter('weight', ...)`), and a parameter's full name is
 * the dotted path of those names (`encoder.layer.0.attention.self.query.weight`), so checkpoint names
 * are what the subclasses say, never a hand-kept mapping table.
 */
export abstract class Module {
  private readonly parameterSlots = new Map<string, Tensor>();
  private readonly childSlots = new Map<string, Module>();
  training = true;

  /** Registers a trainable tensor under `name` and returns it; a parameter outlives any scope it was made in. */
  protected parameter(name: string, value: Tensor): Tensor {
    keep(value);
    value.requiresGrad_(true);
    this.parameterSlots.set(name, value);
    return value;
  }

  /** Registers a child module under `name` (a number for list entries) and returns it. */
  protected child<M extends Module>(name: string | number, module: M): M {
    this.childSlots.set(String(name), module);
    return module;
  }

  /** Replaces a registered parameter (tied weights share one tensor). */
  protected replaceParameter(name: string, value: Tensor): void {
    if (!this.parameterSlots.has(name)) throw new Error(`replaceParameter: no parameter '${name}'`);
    this.parameterSlots.set(name, keep(value));
  }

  /** [name, tensor] for every parameter, depth first, in registration order. Shared tensors appear once. */
  namedParameters(prefix = ''): Array<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const result: Array<[string, Tensor]> = [];
    const walk = (module: Module, path: string): void => {
      for (const [name, tensor] of module.parameterSlots) {
        if (seen.has(tensor)) continue;
        seen.add(tensor);
        result.push([path + name, tensor]);
      }
      for (const [name, childModule] of module.childSlots) walk(childModule, `${path}${name}.`);
    };
    walk(this, prefix);
    return result;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, tensor]) => tensor);
  }

  namedModules(prefix = ''): Array<[string, Module]> {
    const result: Array<[string, Module]> = [[prefix.replace(/\.$/, ''), this]];
    for (const [name, childModule] of this.childSlots) result.push(...childModule.namedModules(`${prefix}${name}.`));
    return result;
  }

  /** Switches dropout on (training) or off for the whole tree. */
  train(mode = true): this {
    for (const [, module] of this.namedModules()) module.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const tensor of this.parameters()) tensor.zeroGrad();
  }

  /** name -> tensor for every parameter. */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters());
  }

  /**
   * Copies values into parameters by name. With `strict`, a missing or unexpected name throws;
   * a shape mismatch always throws, naming the parameter and both shapes.
   * Returns the names found in neither place.
   */
  loadStateDict(
    values: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>,
    options: { strict?: boolean; source?: string } = {},
  ): { missing: string[]; unexpected: string[] } {
    const source = options.source ? ` (from ${options.source})` : '';
    const own = new Map(this.namedParameters());
    const missing: string[] = [];
    for (const [name, tensor] of own) {
      const value = values.get(name);
      if (!value) {
        missing.push(name);
        continue;
      }
      if (!shapesEqual(value.shape, tensor.shape)) {
        throw new Error(`loadStateDict${source}: tensor '${name}' has shape ${formatShape(value.shape)}, expected ${formatShape(tensor.shape)}`);
      }
      tensor.assign(value.data, { disposePrevious: true });
    }
    const unexpected = [...values.keys()].filter((name) => !own.has(name));
    if (options.strict && (missing.length > 0 || unexpected.length > 0)) {
      throw new Error(
        `loadStateDict${source}: missing ${missing.length ? missing.join(', ') : 'none'}; unexpected ${unexpected.length ? unexpected.join(', ') : 'none'}`,
      );
    }
    return { missing, unexpected };
  }
}
