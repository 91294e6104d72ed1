-- wrk script: every request carries the next token of a pre-minted list, so
-- with a list much longer than any token cache each request is a cache miss.
--   wrk ... -s bench/fresh.lua URL -- TOKEN_FILE THREADS
-- The requests are built in init(), so request() costs one table lookup.

local nthreads = 0

function setup(thread)
   nthreads = nthreads + 1
   thread:set("tid", nthreads)
end

function init(args)
   local file, threads = args[1], tonumber(args[2]) or 1
   reqs = {}
   for line in io.lines(file) do
      if #line > 0 then
         reqs[#reqs + 1] = wrk.format(nil, nil, {
            ["Authorization"] = "Bearer " .. line,
         })
      end
   end
   if #reqs == 0 then error("no tokens in " .. file) end
   -- threads start at different offsets of the same cycle
   idx = math.floor(((tid or 1) - 1) * #reqs / threads)
end

function request()
   idx = idx % #reqs + 1
   return reqs[idx]
end
