namespace Conclave.Daemon.Network;

/// <summary>
/// Anti-replay state for one sending daemon: the newest incarnation seen, and a sliding window of the
/// packet counters accepted in it (as IPsec's). Older incarnations and counters already seen or
/// below the window are replays.
/// </summary>
internal sealed class ReplayWindow
{
    private const int Size = 4096;
    private readonly ulong[] _bits = new ulong[Size / 64];
    private ulong _incarnation;
    private ulong _highest;
    private bool _any;

    /// <summary>True if (incarnation, counter) has not been accepted before; does not record it.</summary>
    public bool IsFresh(ulong incarnation, ulong counter)
    {
        if (!_any || incarnation > _incarnation)
        {
            return true;
        }

        if (incarnation < _incarnation)
        {
            return false;
        }

        if (counter > _highest)
        {
            return true;
        }

        ulong age = _highest - counter;
        return age < Size && !Get(counter);
    }

    /// <summary>Records an authenticated packet (call only after it passed <see cref="IsFresh"/> and decryption).</summary>
    public void Accept(ulong incarnation, ulong counter)
    {
        if (!_any || incarnation > _incarnation)
        {
            Array.Clear(_bits);
            _incarnation = incarnation;
            _highest = counter;
            _any = true;
            Set(counter);
            return;
        }

        if (counter > _highest)
        {
            ulong shift = counter - _highest;
            if (shift >= Size)
            {
                Array.Clear(_bits);
            }
            else
            {
                for (ulong c = _highest + 1; c <= counter; c++)
                {
                    Clear(c);
                }
            }

            _highest = counter;
        }

        Set(counter);
    }

    private bool Get(ulong counter) => (_bits[(int)(counter / 64 % (Size / 64))] & (1UL << (int)(counter % 64))) != 0;

    private void Set(ulong counter) => _bits[(int)(counter / 64 % (Size / 64))] |= 1UL << (int)(counter % 64);

    private void Clear(ulong counter) => _bits[(int)(counter / 64 % (Size / 64))] &= ~(1UL << (int)(counter % 64));
}
