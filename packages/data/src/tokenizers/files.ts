import { nodeFsPromises, nodePath } from '@retro/common';

/** Reads a UTF-8 file; the error names the caller and the path. */
export async function readTextFile(path: string, who: string): Promise<string> {
  try {
    let text = await nodeFsPromises.readFile(path, 'utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return text;
  } catch (e) {
    throw new Error(`${who}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Reads and parses a JSON file; the error names the caller and the path. */
export async function readJsonFile(path: string, who: string): Promise<unknown> {
  const text = await readTextFile(path, who);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${who}: ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

export async function fileExists(path: string): Promise<boolean> {
  try {
    await nodeFsPromises.access(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes `files` (name -> contents) into `dir`, creating it. */
export async function writeHfFiles(dir: string, files: Record<string, string>): Promise<void> {
  await nodeFsPromises.mkdir(dir, { recursive: true });
  for (const [name, contents] of Object.entries(files)) await nodeFsPromises.writeFile(nodePath.join(dir, name), contents, 'utf8');
}
