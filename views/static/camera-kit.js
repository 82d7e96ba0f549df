// Camera access and frame capture shared by the sign-in pages (face-capture.js, face-challenge.js) and enroll-kit.js,
// and the status line, oval and JSON posts of the two sign-in pages.

const CAMERA_ERRORS = {
  NotAllowedError: 'Camera access was denied. Allow this site to use the camera in your browser settings, then reload the page.',
  SecurityError: 'Camera access was denied. Allow this site to use the camera in your browser settings, then reload the page.',
  NotFoundError: 'No camera was found on this device.',
  OverconstrainedError: 'No suitable camera was found on this device.',
  NotReadableError: 'The camera is in use by another application. Close it, then reload the page.',
};
const NO_CAMERA_SUPPORT = 'This browser cannot use a camera on this page.';

/**
 * Tells the person (through the page's `say`) what to do about a failure of `openCamera`, with the password where the
 * page offers it, and shows the page's "this app requires face verification" note.
 */
export function explainCameraProblem(err, say) {
  document.querySelector('[data-camera-required]')?.classList.remove('hidden');
  const message = CAMERA_ERRORS[err?.name] || NO_CAMERA_SUPPORT;
  const alternative = document.querySelector('[data-testid="use-password"]');
  say(alternative ? `${message} You can use your password instead.` : message, 'error');
}

/** Plays the user-facing camera in `video` at about 640×480; rejects with getUserMedia's error, or without support. */
export async function openCamera(video) {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error(NO_CAMERA_SUPPORT);
  video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  await video.play();
}

/**
 * The current video frame as a JPEG, at most `maxSide` pixels on its longer side, as the camera delivers it (not
 * mirrored: only a preview is).
 */
export function grabJpeg(video, maxSide, quality) {
  const scale = Math.min(1, maxSide / Math.max(video.videoWidth, video.videoHeight));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(video.videoWidth * scale);
  canvas.height = Math.round(video.videoHeight * scale);
  canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
  return new Promise((resolve, reject) => canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('The camera picture could not be taken.'))), 'image/jpeg', quality));
}

/** The status line, state and oval of a face sign-in page (`root` holds `.capture` and `face-status`). */
export function faceView(root) {
  const preview = root.querySelector('.capture');
  const status = root.querySelector('[data-testid="face-status"]');
  return {
    state: (value) => (root.dataset.state = value),
    say: (text, tone) => {
      // Unchanged guidance is not rewritten, so screen readers announce only news.
      if (status.textContent !== text) status.textContent = text;
      status.className = `status notice notice-${tone}`;
    },
    outline: (kind) => {
      preview.classList.toggle('ok', kind === 'ok');
      preview.classList.toggle('bad', kind === 'bad');
    },
  };
}

/**
 * Posts `form` for a JSON answer. Refusals come as { error: { code, message, requestId }, … }: `code` and `message`
 * are lifted next to the other members.
 */
export async function postForm(url, form, csrf) {
  const res = await fetch(url, { method: 'POST', body: form, credentials: 'same-origin', headers: { accept: 'application/json', 'x-csrf-token': csrf } });
  const body = await res.json().catch(() => ({}));
  return { res, body: { ...body, code: body.error?.code, message: body.error?.message } };
}
