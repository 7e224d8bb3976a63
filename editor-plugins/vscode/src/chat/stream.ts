/** Reassembles one chat's streamed `tandem/chatChunk`s into its text, in `index` order. Pure. */
import type { ChatChunk } from '../protocol';

export class ChatStream {
  private readonly pieces: string[] = [];
  private readonly early = new Map<number, string>();

  constructor(readonly chatId: string) {}

  /** The text so far, contiguous from index 0. */
  get text(): string {
    return this.pieces.join('');
  }

  /**
   * Adds a chunk and says whether the contiguous text grew. Duplicates and other chats'
   * chunks are ignored; a chunk that arrives ahead of a missing one waits for it.
   */
  add(chunk: ChatChunk): boolean {
    if (chunk.chatId !== this.chatId || !Number.isInteger(chunk.index) || chunk.index < this.pieces.length) {
      return false;
    }
    this.early.set(chunk.index, chunk.text);
    let grew = false;
    for (let next = this.early.get(this.pieces.length); next !== undefined; next = this.early.get(this.pieces.length)) {
      this.early.delete(this.pieces.length);
      this.pieces.push(next);
      grew = true;
    }
    return grew;
  }
}

let counter = 0;

/** A chat id unique within this window (the server echoes it in every chunk). */
export function newChatId(prefix = 'vscode'): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}
