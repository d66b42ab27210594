// The device nodes of the host's loopback devices, by the config's numbers. generic-worker hands
// the same nodes to native tasks (loopback_audio_feature_linux.go:30-40,
// loopback_video_feature_linux.go:33) and, through d2g, to docker-worker payloads' containers.

/** An snd-aloop card's control and PCM nodes. */
export function audioDevicePaths(card: number): string[] {
  return [`/dev/snd/controlC${card}`, `/dev/snd/pcmC${card}D0c`, `/dev/snd/pcmC${card}D0p`, `/dev/snd/pcmC${card}D1c`, `/dev/snd/pcmC${card}D1p`]
}

/** A v4l2loopback device node. */
export function videoDevicePath(deviceNumber: number): string {
  return `/dev/video${deviceNumber}`
}
