import { t, useStore } from '../store.ts';

const Z = 16;
/** Web-Mercator tile of a point at zoom Z, with the pixel offset inside it. */
function tileOf(lat: number, lon: number) {
  const n = 2 ** Z;
  const x = ((lon + 180) / 360) * n;
  const r = (lat * Math.PI) / 180;
  const y = ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n;
  return { x: Math.floor(x), y: Math.floor(y), px: (x % 1) * 256, py: (y % 1) * 256 };
}

/** The object's location on a 3×3 tile map from the configured tile source; a plain placeholder offline or without one. */
export function MapView({ lat, lon }: { lat: number | null; lon: number | null }) {
  const tiles = useStore((s) => s.settings.map_tile_url);
  const live = useStore((s) => s.link === 'live');
  if (lat === null || lon === null) return <p className="map placeholder">{t('detail.mapNone')}</p>;
  if (!tiles || !live) return <p className="map placeholder" role="img" aria-label={t('detail.map')}>{t('detail.mapOffline', { lat: lat.toFixed(5), lon: lon.toFixed(5) })}</p>;
  const c = tileOf(lat, lon);
  const url = (dx: number, dy: number) => tiles.replace('{z}', String(Z)).replace('{x}', String(c.x + dx)).replace('{y}', String(c.y + dy));
  return (
    <div className="map" role="img" aria-label={`${t('detail.map')}: ${lat.toFixed(5)}, ${lon.toFixed(5)}`}>
      <div className="tiles" style={{ transform: `translate(${128 - c.px - 256}px, ${128 - c.py - 256}px)` }}>
        {[-1, 0, 1].flatMap((dy) => [-1, 0, 1].map((dx) => <img key={`${dx},${dy}`} alt="" src={url(dx, dy)} width={256} height={256} style={{ left: (dx + 1) * 256, top: (dy + 1) * 256 }} />))}
      </div>
      <span className="marker" aria-hidden="true">📍</span>
    </div>
  );
}
