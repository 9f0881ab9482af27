import type { ServerMessage } from '@impartial/shared';

/** Where news goes: every client of an image, or of every image of a project (the hub implements it). */
export interface Publisher {
  toImage(imageId: string, message: ServerMessage): void;
  toProject(projectId: string, message: ServerMessage): void;
}
