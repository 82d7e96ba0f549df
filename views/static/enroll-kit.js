// Camera, frame capture, upload and verdict drawing shared by the admin enrollment page and the invite page.

import { grabJpeg } from './camera-kit.js';

/** Opens the user-facing camera into `video`; throws an Error with a message a person can act on. */
export async function startCamera(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error('This browser cannot use a camera on this page. Use a current browser over HTTPS.');
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 960 }, facingMode: 'user' }, audio: false });
  } catch (err) {
    if (err && err.name === 'NotAllowedError') throw new Error('Camera access was refused. Allow the camera for this site in the browser settings and try again.', { cause: err });
    if (err && err.name === 'NotFoundError') throw new Error('No camera was found. Connect a camera, or upload a photo instead.', { cause: err });
    throw new Error('The camera could not be started. Close other apps that use it and try again.', { cause: err });
  }
  video.srcObject = stream;
  await video.play();
  return stream;
}

export function stopCamera(stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
}

/** The current video frame as a JPEG, at most `maxSide` pixels on its longer side (larger frames only cost decode time). */
export const grabFrame = (video, maxSide = 1280) => grabJpeg(video, maxSide, 0.92);

/** Posts a photo (or several, as repeated `photo` parts) as multipart/form-data; returns the HTTP status with the JSON answer. */
export async function sendPhoto(url, photos, csrf, fields = {}) {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  for (const photo of [photos].flat()) body.append('photo', photo, photo.name || 'photo.jpg');
  let res;
  try {
    res = await fetch(url, { method: 'POST', body, headers: { 'x-csrf-token': csrf, accept: 'application/json' }, credentials: 'same-origin' });
  } catch {
    return { status: 0, body: { message: 'The server could not be reached. Check the connection and try again.' } };
  }
  const json = await res.json().catch(() => ({ error: { message: `The server answered ${res.status}.` } }));
  // Refusals come as { error: { code, message, requestId }, verdict? }.
  return { status: res.status, body: { ...json, code: json.error?.code, message: json.error?.message } };
}

/**
 * Draws the photo (EXIF orientation applied, as the server analysed it) with the detected faces: the chosen face
 * in green when usable or red when not, other faces dashed in orange.
 */
export async function drawVerdict(canvas, photo, verdict, maxWidth = 480) {
  const bitmap = await window.createImageBitmap(photo, { imageOrientation: 'from-image' });
  const scale = Math.min(1, maxWidth / bitmap.width);
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  const g = canvas.getContext('2d');
  g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  if (!verdict) return;
  const k = canvas.width / verdict.width;
  g.lineWidth = Math.max(2, canvas.width / 160);
  for (const face of verdict.faces) {
    const chosen = verdict.face && face.box.x === verdict.face.box.x && face.box.y === verdict.face.box.y;
    g.setLineDash(chosen ? [] : [6, 4]);
    g.strokeStyle = chosen ? (verdict.ok ? '#45d483' : '#ff5b67') : '#ffb020';
    g.strokeRect(face.box.x * k, face.box.y * k, face.box.width * k, face.box.height * k);
  }
}

/** A list of the verdict's issues: the message people read, the code support staff search for. */
export function issueList(issues) {
  const list = document.createElement('ul');
  list.className = 'issues';
  for (const issue of issues) {
    const item = document.createElement('li');
    item.append(`${issue.message} `);
    const code = document.createElement('code');
    code.textContent = issue.code;
    item.append(code);
    list.append(item);
  }
  return list;
}
