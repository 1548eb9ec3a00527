/**
 * HF Trainer's rule: biases and LayerNorm parameters are not decayed. Names are matched as
 * written by the module tree (`...LayerNorm.weight`, `c_head.attention_layer_norm.weight`).
 */
export function hfNoDecay(name: string): boolean {
  return name.endsWith('.bias') || name === 'bias' || name.includes('LayerNorm') || name.includes('layer_norm');
}

/** One optimizer parameter group: names sharing a weight decay. */
export interface ParamGroup {
  weightDecay: number;
  names: string[];
}

/**
 * Splits parameter names into a decayed and a non-decayed group (in that order; empty groups
 * are dropped), keeping each name's original order.
 */
export function groupByWeightDecay(names: readonly string[], weightDecay: number, noDecay: (name: string) => boolean = hfNoDecay): ParamGroup[] {
  const decayed = names.filter((name) => !noDecay(name));
  const exempt = names.filter((name) => noDecay(name));
  return [
    { weightDecay, names: decayed },
    { weightDecay: 0, names: exempt },
  ].filter((group) => group.names.length > 0);
}
