// Camera access and frame capture shared by the sign-in pages (face-capture.js, face-challenge.js) and enroll-kit.js.

const CAMERA_ERRORS = {
  NotAllowedError: 'Camera access was denied. Allow this site to use the camera in your browser settings, then reload the page.',
  SecurityError: 'Camera access was denied. Allow this site to use the camera in your browser settings, then reload the page.',
  NotFoundError: 'No camera was found on this device.',
  OverconstrainedError: 'No suitable camera was found on this device.',
  NotReadableError: 'The camera is in use by another application. Close it, then reload the page.',
};
const NO_CAMERA_SUPPORT = 'This browser cannot use a camera on this page.';

/** What a person can do about a failure of `openCamera`. */
export function cameraProblem(err) {
  return CAMERA_ERRORS[err?.name] || NO_CAMERA_SUPPORT;
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
