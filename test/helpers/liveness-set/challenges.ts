// Challenges for the evaluation set: drawn with a seeded PRNG like the server's drawChallenge, and mirrored.
export type Movement = 'left' | 'right' | 'up' | 'down';

const MIRROR: Record<Movement, Movement> = { left: 'right', right: 'left', up: 'up', down: 'down' };

/** What a mirrored picture of an answer performs: the person's left becomes their right. */
export const mirrored = (c: string) => c.split(',').map((m) => MIRROR[m as Movement]).join(',');

/** 2–3 movements, never the same twice in a row; none that starts like (or is the start of) one of `exclude`. */
export function randomChallenge(rnd: () => number, exclude: string[] = [], from: Movement[] = ['left', 'right', 'up', 'down']): Movement[] {
  for (;;) {
    const length = rnd() < 0.5 ? 2 : 3;
    const moves: Movement[] = [];
    while (moves.length < length) {
      const choices = from.filter((m) => m !== moves.at(-1));
      moves.push(choices[Math.floor(rnd() * choices.length)]);
    }
    if (!exclude.some((e) => moves.join(',').startsWith(e) || e.startsWith(moves.join(',')))) return moves;
  }
}
